/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The architecture table (arch_registry.h). One line per architecture: the
  loader, the engine and the tools find everything else through it.
*/
#include "arch_registry.h"

#include <stdio.h>
#include <string.h>

/* Each architecture's loader and engine functions, defined in its own
   files and named only here. */
extern const qm_arch_ops qm_wavenet_ops;   /* wavenet.c */
extern const qm_arch_ops qm_seq_ops;       /* sequential.c */
extern const qm_arch_ops qm_container_ops; /* container.c */
extern const qm_arch_ops qm_convnet_ops;   /* convnet.c */
bool qm_nam_load_wavenet(qm_ctx *c, qm_desc *d, json_t *config, qm_doc *doc, json_t *weights);
bool qm_nam_load_lstm(qm_ctx *c, qm_desc *d, json_t *config, qm_doc *doc, json_t *weights);
bool qm_nam_load_linear(qm_ctx *c, qm_desc *d, json_t *config, qm_doc *doc, json_t *weights);
bool qm_nam_load_convnet(qm_ctx *c, qm_desc *d, json_t *config, qm_doc *doc, json_t *weights);
bool qm_nam_load_container(qm_ctx *c, qm_desc *d, json_t *config, qm_doc *doc, json_t *weights);

static const qm_arch_entry qm_arch_table[] = {
    {"WaveNet", QM_ARCH_WAVENET, qm_nam_load_wavenet, qm_nam_walk_wavenet, &qm_wavenet_ops},
    {"LSTM", QM_ARCH_SEQUENTIAL, qm_nam_load_lstm, qm_nam_walk_lstm, &qm_seq_ops},
    {"Linear", QM_ARCH_SEQUENTIAL, qm_nam_load_linear, qm_nam_walk_linear, &qm_seq_ops},
    {"ConvNet", QM_ARCH_CONVNET, qm_nam_load_convnet, qm_nam_walk_convnet, &qm_convnet_ops},
    {"keras", QM_ARCH_SEQUENTIAL, NULL, NULL, &qm_seq_ops},
    {"SlimmableContainer", QM_ARCH_CONTAINER, qm_nam_load_container, NULL, &qm_container_ops},
};

#define QM_ARCH_ENTRIES (sizeof qm_arch_table / sizeof qm_arch_table[0])

const qm_arch_entry *qm_arch_find_nam(const char *name)
{
  for (size_t i = 0; i < QM_ARCH_ENTRIES; ++i)
    if (qm_arch_table[i].load && strcmp(qm_arch_table[i].name, name) == 0)
      return &qm_arch_table[i];
  return NULL;
}

const qm_arch_ops *qm_arch_ops_of(qm_arch arch)
{
  for (size_t i = 0; i < QM_ARCH_ENTRIES; ++i)
    if (qm_arch_table[i].arch == arch)
      return qm_arch_table[i].ops;
  return NULL;
}

void qm_arch_nam_names(char *buf, size_t n)
{
  size_t used = 0;
  if (n)
    buf[0] = '\0';
  for (size_t i = 0; i < QM_ARCH_ENTRIES; ++i) {
    if (!qm_arch_table[i].load)
      continue;
    int w = snprintf(buf + used, n - used, "%s%s", used ? ", " : "", qm_arch_table[i].name);
    if (w < 0 || (size_t)w >= n - used)
      break;
    used += (size_t)w;
  }
}
