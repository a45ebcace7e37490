/* goc/io.h - (being written). */
#ifndef GOC_IO_H
#define GOC_IO_H
#endif
