/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  The architecture registry: one table entry per architecture a model file
  can name, holding everything the loader, the engine, the quantizer and
  the analysis need to know about it. Adding an architecture is a
  description struct (model_file.h), a loader, an engine file, one entry in
  arch_registry.c and two lines of meson.build: CONTRIBUTING.md walks it.

  Internal to models/: it joins the loader's view (loader_internal.h) and
  the engine's (engine_internal.h).
*/
#ifndef QUANTONE_MODELS_ARCH_REGISTRY_H
#define QUANTONE_MODELS_ARCH_REGISTRY_H

#include "engine_internal.h"
#include "equalize.h"
#include "loader_internal.h"

/**
   What the engine does with one architecture. Every function but build
   gets a model that build() succeeded on (free also one it failed on,
   and must cope with a half-built one).
*/
typedef struct qm_arch_ops_s {
  /** Allocate and pack the network from the description (registering its
      linears and taps); false with a reason (no path) in err. */
  bool (*build)(qm_model *m, const qm_desc *d, char *err, size_t errlen);
  void (*free)(qm_model *m);
  /** Zero the streaming state (no prewarm: the engine does that). RT safe. */
  void (*reset)(qm_model *m);
  /** One internal batch, n <= chunk frames. RT safe. */
  void (*run)(qm_model *m, const float *x, float *y, int n);
  /** Keep a copy of the streaming state (allocates); *finite = it is. */
  bool (*save_warm)(qm_model *m, bool *finite);
  /** Back to that copy, copying only. RT safe. */
  void (*load_warm)(qm_model *m);
  /** Streaming state src -> dst (same architecture and shapes, else false). RT safe. */
  bool (*copy_state)(qm_model *dst, const qm_model *src);
  /** Derive run-time forms from quantized weights (qm_model_prepare_quantized);
      NULL when the architecture derives nothing. */
  bool (*prepare)(qm_model *m, const qk_weights *const *w);
  /** Add its heap blocks to *mem. */
  void (*memory)(const qm_model *m, qm_memory *mem);
  /** Samples of input history the description's model sees (>= 1). */
  long long (*receptive_field)(const qm_desc *d);
  /** Multiply-adds per output sample of the description's network, counted
      as its dense matrices hold them (grouped ones with their zeros), so it
      equals qm_model_macs_per_sample of the model built from it: the cost
      the GUI shows for a slim step before that size is ever built. */
  double (*macs_per_sample)(const qm_desc *d);
  /** Its channel groups cross-layer equalization may rescale (equalize.h),
      appended to *groups (*n entries, realloc'd; qm_eq_group_new); NULL
      for an architecture with none. False when out of memory. */
  bool (*equalization_groups)(const qm_model *m, qm_eq_group **groups, int *n);
} qm_arch_ops;

/** A .nam architecture's loader: config and weights into d (arch, its
    description, prewarm_samples); false with "PATH: problem" in c. */
typedef bool (*qm_nam_loader)(qm_ctx *c, qm_desc *d, json_t *config, qm_doc *doc, json_t *weights);

/** Its weights in the file's order, either way (qm_walk, loader_internal.h). */
typedef bool (*qm_nam_walker)(qm_walk *w, qm_desc *d);

typedef struct {
  const char *name;   /**< the .nam file's "architecture" ("WaveNet"), or the kind ("keras") */
  qm_arch arch;       /**< what the loader sets desc->arch to */
  qm_nam_loader load; /**< NULL: not read from a .nam "architecture" key */
  /** NULL: no weights of its own (a container) or not a .nam architecture */
  qm_nam_walker walk;
  const qm_arch_ops *ops;
} qm_arch_entry;

/** The entry a .nam "architecture" names, or NULL. */
const qm_arch_entry *qm_arch_find_nam(const char *name);
/** The engine's functions for a description's arch (never NULL for a
    loaded description). */
const qm_arch_ops *qm_arch_ops_of(qm_arch arch);
/** "WaveNet, LSTM, Linear" (the .nam architectures, for messages) into buf. */
void qm_arch_nam_names(char *buf, size_t n);

#endif
