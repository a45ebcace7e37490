/* goc/chan.h - channels and select (being written). */
#ifndef GOC_CHAN_H
#define GOC_CHAN_H
#endif
