/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The engine's side of a SlimmableContainer (models/nam_container.c loads
  it): a container never runs as itself. Building one builds the
  submodel that plays at slim 1.0 (qm_desc_full_size) and hands the model
  to that submodel's architecture, whose functions it keeps from then on;
  the other sizes are built from qm_desc_at_slim()'s descriptions (slim.h).
*/
#include "arch_registry.h"
#include "slim.h"

#include <stdio.h>

static bool container_build(qm_model *m, const qm_desc *d, char *err, size_t errlen)
{
  const qm_desc *full = qm_desc_full_size(d);
  const qm_arch_ops *ops = full->arch != QM_ARCH_CONTAINER ? qm_arch_ops_of(full->arch) : NULL;
  if (!ops) {
    snprintf(err, errlen, "no engine for the container's full-size submodel");
    return false;
  }
  m->arch = full->arch;
  m->ops = ops;
  m->prewarm = full->prewarm_samples;
  return ops->build(m, full, err, errlen);
}

/** Only reached when build failed before handing over: nothing to free. */
static void container_free(qm_model *m) { (void)m; }

/** The full-size submodel's description and operations (a container's
    costs are those of what it plays at slim 1); NULL ops for a container
    nested in a container, which the loader refuses. */
static const qm_arch_ops *full_size_ops(const qm_desc *d, const qm_desc **full)
{
  *full = qm_desc_full_size(d);
  return (*full)->arch != QM_ARCH_CONTAINER ? qm_arch_ops_of((*full)->arch) : NULL;
}

static long long container_receptive_field(const qm_desc *d)
{
  const qm_desc *full;
  const qm_arch_ops *ops = full_size_ops(d, &full);
  return ops ? ops->receptive_field(full) : 1;
}

static double container_macs_per_sample(const qm_desc *d)
{
  const qm_desc *full;
  const qm_arch_ops *ops = full_size_ops(d, &full);
  return ops ? ops->macs_per_sample(full) : 0.0;
}

/** Only build, free, receptive_field and macs_per_sample are ever called with a container:
    build replaces m->ops before anything else runs. */
const qm_arch_ops qm_container_ops = {
    .build = container_build,
    .free = container_free,
    .receptive_field = container_receptive_field,
    .macs_per_sample = container_macs_per_sample,
};
