/* goc/patterns.h - (being written). */
#ifndef GOC_PATTERNS_H
#define GOC_PATTERNS_H
#endif
