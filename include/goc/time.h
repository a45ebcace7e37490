/* goc/time.h - (being written). */
#ifndef GOC_TIME_H
#define GOC_TIME_H
#endif
