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

static long long container_receptive_field(const qm_desc *d)
{
  const qm_desc *full = qm_desc_full_size(d);
  const qm_arch_ops *ops = full->arch != QM_ARCH_CONTAINER ? qm_arch_ops_of(full->arch) : NULL;
  return ops ? ops->receptive_field(full) : 1;
}

/** Only build, free and receptive_field are ever called with a container:
    build replaces m->ops before anything else runs. */
const qm_arch_ops qm_container_ops = {
    .build = container_build,
    .free = container_free,
    .receptive_field = container_receptive_field,
};
