/* goc/debug.h - (being written). */
#ifndef GOC_DEBUG_H
#define GOC_DEBUG_H
#endif
