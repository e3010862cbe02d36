/* gv-store-private.h: for tests of the schema migrations. */
#pragma once

#include "gv-store.h"

G_BEGIN_DECLS

/* The SQL that takes the schema from version v - 1 to v (1 <= v <= GV_STORE_SCHEMA_VERSION). */
const char *_gv_store_migration_sql (int v);
/* Creates a database at path holding schema version `version` exactly (0: an empty file with no
 * tables), as an older build of this program would have left it. */
gboolean _gv_store_create_at_version (const char *path, int version, GError **error);

G_END_DECLS
