/* goc/ctx.h - (being written). */
#ifndef GOC_CTX_H
#define GOC_CTX_H
#endif
