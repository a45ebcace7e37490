/* goc/sync.h - (being written). */
#ifndef GOC_SYNC_H
#define GOC_SYNC_H
#endif
