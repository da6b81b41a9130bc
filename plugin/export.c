/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  "Save quantized model...": the playing model written as the controls
  play it (precision, scheme, slim size) as a .nam file whose weights are
  the quantized ones (models/nam_export.h). run() only keeps the path and
  schedules a job; the worker quantizes and writes the file and answers
  with the path written or the reason it was not, which run() sends to the
  UI (qt:exported, or qt:error).
*/
#include "qt_plugin.h"

#include "calib_clip.h"
#include "nam_export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void qt_request_export(qt_plugin *self, const char *path, uint32_t len)
{
  if (!self->model) {
    qt_set_error(self, "Save quantized model: no model plays");
    return;
  }
  if (len == 0 || len >= QT_PATH_MAX) {
    qt_set_error(self, "Save quantized model: the path is empty or too long");
    return;
  }
  qt_seqstr_write(&self->export_req, path, len, ++self->export_gen);
  qt_job job;
  memset(&job, 0, sizeof job);
  job.type = QT_JOB_EXPORT;
  job.model = self->model;
  job.set = self->want;
  job.slim = self->want_slim;
  job.gen = self->export_gen;
  if (!qt_schedule(self, &job, sizeof job))
    qt_set_error(self, "Save quantized model: the worker queue is full, try again");
}

LV2_Worker_Status qt_export_job(qt_plugin *self, const qt_job *job,
                                LV2_Worker_Respond_Function respond, LV2_Worker_Respond_Handle rh)
{
  qt_resp r;
  memset(&r, 0, sizeof r);
  r.type = QT_RESP_EXPORTED;
  char *path = malloc(QT_PATH_MAX);
  if (!path) {
    r.failed = true;
    snprintf(r.msg, sizeof r.msg, "Save quantized model: out of memory");
    return respond(rh, sizeof r, &r);
  }
  /* a later request has replaced the path: that one's own job writes it */
  if (qt_seqstr_read(&self->export_req, path, QT_PATH_MAX) != job->gen) {
    free(path);
    return LV2_WORKER_SUCCESS;
  }
  const qt_slot *mo = job->model;
  qm_setting set = job->set;
  /* the size that plays: the lower end of the slim control's step */
  set.slim = mo->steps[qt_slot_slim_step(mo, job->slim)].lo;
  int n_calib = 0;
  float *calib = qm_setting_needs_calibration(&set) ? qm_calib_clip(mo->rate, QT_CALIB_S, &n_calib) : NULL;
  char err[QT_MSG_MAX - 32];
  if (qm_export_nam(mo->desc, &set, NULL, calib, n_calib, path, err, sizeof err)) {
    snprintf(r.msg, sizeof r.msg, "%s", path);
    lv2_log_note(&self->logger, "Quantone: saved the quantized model to %s\n", path);
  } else {
    r.failed = true;
    snprintf(r.msg, sizeof r.msg, "Save quantized model: %s", err);
    lv2_log_error(&self->logger, "Quantone: %s\n", r.msg);
  }
  free(calib);
  free(path);
  return respond(rh, sizeof r, &r);
}

void qt_take_exported(qt_plugin *self, const qt_resp *r)
{
  if (r->failed) {
    qt_set_error(self, r->msg);
    return;
  }
  memcpy(self->exported_path, r->msg, sizeof self->exported_path);
  self->send_exported = true;
}
