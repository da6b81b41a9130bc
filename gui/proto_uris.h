/*
  Every URI the GUI maps, NULL-terminated. The external-UI shim maps
  exactly these with the host's map and sends the table to the helper
  process; kept apart from protocol.h so the shim needs no cairo/GTK
  headers.
*/
#ifndef QUANTONE_GUI_PROTO_URIS_H
#define QUANTONE_GUI_PROTO_URIS_H

extern const char *const qt_proto_uris[];

#endif
