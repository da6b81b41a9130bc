/* SPDX-FileCopyrightText: Copyright 2025-2026 Quantone developers */
/* SPDX-License-Identifier: ISC */
/*
  gen_ports_ttl TEMPLATE OUT: copy TEMPLATE (quantone.ttl.in after
  configure_file) to OUT, replacing the line that holds only @QT_PORTS@
  with the plugin's ports written from the port table
  (plugin/quantone_ports.h).

  Why generated: the table is what the plugin clamps to, what LADSPA
  advertises and what the GUI draws; a hand-written copy of it in Turtle
  drifted before. Generated, the bundle's Turtle says what the table says;
  test_rtpath's "ports" group still reads the installed file through lilv
  and compares every field, which guards this program too.

  Runs at build time on the build machine (meson: native executable).
*/
#include "quantone_ports.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** A number as Turtle: an integer literal for integer and toggled ports,
    a decimal otherwise (20.0, not 20, so the type says "continuous").
    %.9g prints every float so that it reads back as the same float. */
static void put_num(FILE *f, float v, bool integral)
{
  char buf[64];
  if (integral) {
    fprintf(f, "%ld", (long)v);
    return;
  }
  snprintf(buf, sizeof buf, "%.9g", (double)v);
  fputs(buf, f);
  if (!strpbrk(buf, ".eE"))
    fputs(".0", f);
}

/** A Turtle string literal: quotes and backslashes escaped (the table
    holds no control characters; a test reads the result back). */
static void put_str(FILE *f, const char *s)
{
  fputc('"', f);
  for (; *s; ++s) {
    if (*s == '"' || *s == '\\')
      fputc('\\', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

/** A URI, as a prefixed name where quantone.ttl.in declares the prefix. */
static void put_uri(FILE *f, const char *uri)
{
  static const struct {
    const char *ns, *prefix;
  } known[] = {
      {"http://lv2plug.in/ns/lv2core#", "lv2:"},
      {"http://lv2plug.in/ns/extensions/units#", "units:"},
  };
  for (size_t k = 0; k < sizeof known / sizeof *known; ++k) {
    size_t n = strlen(known[k].ns);
    if (!strncmp(uri, known[k].ns, n)) {
      fprintf(f, "%s%s", known[k].prefix, uri + n);
      return;
    }
  }
  fprintf(f, "<%s>", uri);
}

/** Starts the next predicate of a port: " ;" ends the one before. */
static void next(FILE *f, bool *first, const char *predicate)
{
  fprintf(f, "%s\t\t%s ", *first ? "" : " ;\n", predicate);
  *first = false;
}

static void put_port(FILE *f, int index, const qt_port_info *p)
{
  static const char *const classes[] = {
      [QT_KIND_AUDIO_IN] = "lv2:AudioPort ,\n\t\t\tlv2:InputPort",
      [QT_KIND_AUDIO_OUT] = "lv2:AudioPort ,\n\t\t\tlv2:OutputPort",
      [QT_KIND_ATOM_IN] = "atom:AtomPort ,\n\t\t\tlv2:InputPort",
      [QT_KIND_ATOM_OUT] = "atom:AtomPort ,\n\t\t\tlv2:OutputPort",
      [QT_KIND_CONTROL_IN] = "lv2:ControlPort ,\n\t\t\tlv2:InputPort",
      [QT_KIND_CONTROL_OUT] = "lv2:ControlPort ,\n\t\t\tlv2:OutputPort",
  };
  const bool atom = p->kind == QT_KIND_ATOM_IN || p->kind == QT_KIND_ATOM_OUT;
  const bool control = p->kind == QT_KIND_CONTROL_IN || p->kind == QT_KIND_CONTROL_OUT;
  const bool integral = (p->props & (QT_PROP_INTEGER | QT_PROP_TOGGLED)) != 0;
  bool first = true;

  next(f, &first, "a");
  fputs(classes[p->kind], f);
  if (atom) {
    next(f, &first, "atom:bufferType");
    fputs("atom:Sequence", f);
    next(f, &first, "atom:supports");
    fputs("patch:Message", f);
  }
  next(f, &first, "lv2:index");
  fprintf(f, "%d", index);
  next(f, &first, "lv2:symbol");
  put_str(f, p->symbol);
  next(f, &first, "lv2:name");
  put_str(f, p->name);
  if (p->comment) {
    next(f, &first, "rdfs:comment");
    put_str(f, p->comment);
  }
  if (p->group) {
    next(f, &first, "pg:group");
    fprintf(f, "<%s%s>", QUANTONE_NS, p->group);
  }
  if (qt_port_designation_uri(p->designation)) {
    next(f, &first, "lv2:designation");
    put_uri(f, qt_port_designation_uri(p->designation));
  }
  if (p->min_size) {
    next(f, &first, "rsz:minimumSize");
    fprintf(f, "%u", p->min_size);
  }
  if (control) {
    next(f, &first, "lv2:default");
    put_num(f, p->def, integral);
    next(f, &first, "lv2:minimum");
    put_num(f, p->min, integral);
    next(f, &first, "lv2:maximum");
    put_num(f, p->max, integral);
  }
  if (qt_port_unit_uri(p->unit)) {
    next(f, &first, "units:unit");
    put_uri(f, qt_port_unit_uri(p->unit));
  }

  static const struct {
    unsigned flag;
    const char *curie;
  } props[] = {
      {QT_PROP_REPORTS_LATENCY, "lv2:reportsLatency"}, {QT_PROP_INTEGER, "lv2:integer"},
      {QT_PROP_ENUMERATION, "lv2:enumeration"},        {QT_PROP_TOGGLED, "lv2:toggled"},
      {QT_PROP_OPTIONAL, "lv2:connectionOptional"},
  };
  const char *sep = NULL;
  for (size_t k = 0; k < sizeof props / sizeof *props; ++k)
    if (p->props & props[k].flag) {
      if (sep)
        fputs(sep, f);
      else
        next(f, &first, "lv2:portProperty");
      fputs(props[k].curie, f);
      sep = " ,\n\t\t\t";
    }

  for (int k = 0; k < p->n_points; ++k) {
    if (k)
      fputs(" , [\n", f);
    else {
      next(f, &first, "lv2:scalePoint");
      fputs("[\n", f);
    }
    fputs("\t\t\trdfs:label ", f);
    put_str(f, p->points[k].label);
    fputs(" ;\n\t\t\trdf:value ", f);
    put_num(f, p->points[k].value, integral);
    fputs("\n\t\t]", f);
  }
  fputs("\n", f);
}

/** The objects of lv2:port: "[ ... ] , [ ... ]"; the template writes the
    predicate before them and the punctuation after them. */
static int put_ports(FILE *f)
{
  fputs("[\n", f);
  for (int i = 0; i < QT_PORT_COUNT; ++i) {
    const qt_port_info *p = qt_port_info_get(i);
    if (!p->symbol || !p->name) {
      fprintf(stderr, "gen_ports_ttl: port %d has no row in the port table\n", i);
      return 1;
    }
    if (i)
      fputs("\t] , [\n", f);
    put_port(f, i, p);
  }
  fputs("\t]", f);
  return 0;
}

int main(int argc, char **argv)
{
  if (argc != 3) {
    fprintf(stderr, "usage: %s TEMPLATE OUT\n", argv[0]);
    return 2;
  }
  FILE *in = fopen(argv[1], "r");
  if (!in) {
    perror(argv[1]);
    return 1;
  }
  FILE *out = fopen(argv[2], "w");
  if (!out) {
    perror(argv[2]);
    fclose(in);
    return 1;
  }
  static const char marker[] = "@QT_PORTS@";
  char line[4096];
  int found = 0, rc = 0;
  while (!rc && fgets(line, sizeof line, in)) {
    char *m = strstr(line, marker);
    if (!m) {
      fputs(line, out);
      continue;
    }
    ++found;
    fwrite(line, 1, (size_t)(m - line), out);
    rc = put_ports(out);
    fputs(m + sizeof marker - 1, out);
  }
  fclose(in);
  if (fclose(out) != 0 || rc || found != 1) {
    if (found != 1)
      fprintf(stderr, "gen_ports_ttl: %s holds @QT_PORTS@ on %d lines (needs exactly one)\n",
              argv[1], found);
    remove(argv[2]);
    return 1;
  }
  return 0;
}
