/*
 * driftdiff: container drift forensics.
 *
 * Include this header to get the whole public API. Every public symbol is
 * prefixed dd_; every function that can fail returns 0 or a negative DD_E*
 * code and leaves a one-line message on the dd_ctx (dd_ctx_error()).
 */
#ifndef DRIFTDIFF_H
#define DRIFTDIFF_H

#include "driftdiff/common.h"
#include "driftdiff/tree.h"
#include "driftdiff/image.h"
#include "driftdiff/target.h"
#include "driftdiff/diff.h"
#include "driftdiff/findings.h"
#include "driftdiff/report.h"
#include "driftdiff/verify.h"
#include "driftdiff/live.h"

#endif
