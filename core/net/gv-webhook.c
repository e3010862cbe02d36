/* gv-webhook.c: the result POSTed to a caller's URL when a job ends (analyze --webhook). The
 * receiver decides what the body means; this side only retries what may succeed later. */
#include <string.h>

#include "gv-net.h"

gboolean
gv_net_post_json (const char *url, const char *json, GError **error)
{
  const char *headers[] = { "Content-Type: application/json", NULL };
  GvNetRequest req = { "POST", url, headers, json, strlen (json), 30, 3, 1.0 };

  return gv_net_request (&req, NULL, NULL, error);
}
