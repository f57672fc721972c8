/* Evidence over HTTP(S) with libcurl (see attestctl_fetch.h). */
#include "attestctl_fetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

typedef struct sink {
  char *p;
  size_t len, max;
  int over;
} sink_t;

static size_t on_data(char *data, size_t size, size_t n, void *ctx) {
  sink_t *s = ctx;
  size_t got = size * n;
  if (got > s->max - s->len) {
    s->over = 1;
    return 0; /* aborts the transfer */
  }
  char *np = realloc(s->p, s->len + got + 1);
  if (np == NULL) {
    return 0;
  }
  s->p = np;
  memcpy(s->p + s->len, data, got);
  s->len += got;
  s->p[s->len] = '\0';
  return got;
}

/* The request URL: the agent's base URL plus the path, or the full path
 * as given; no query of the caller's (the nonce is ours to choose). */
static int build_url(const char *base, const uint8_t *nonce, size_t nlen,
                     uint32_t mask, char *out, size_t cap) {
  static const char kPath[] = "/v1/attestation";
  if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0) {
    return -1;
  }
  if (strpbrk(base, "?#") != NULL) {
    return -1;
  }
  size_t bl = strlen(base);
  while (bl > 0 && base[bl - 1] == '/') {
    bl--;
  }
  const char *path = kPath;
  if (bl >= sizeof(kPath) - 1 &&
      strncmp(base + bl - (sizeof(kPath) - 1), kPath, sizeof(kPath) - 1) == 0) {
    path = "";
  }
  int o = snprintf(out, cap, "%.*s%s?nonce=", (int)bl, base, path);
  for (size_t i = 0; i < nlen && o > 0 && (size_t)o < cap; i++) {
    o += snprintf(out + o, cap - (size_t)o, "%02x", nonce[i]);
  }
  const char *sep = "&pcrs=";
  for (unsigned i = 0; i < 24 && o > 0 && (size_t)o < cap; i++) {
    if (mask & (1u << i)) {
      o += snprintf(out + o, cap - (size_t)o, "%s%u", sep, i);
      sep = ",";
    }
  }
  return o > 0 && (size_t)o < cap ? 0 : -1;
}

/* The agent's error message out of its JSON error body, if there is one. */
static void error_message(const char *body, size_t len, char *out, size_t cap) {
  out[0] = '\0';
  if (body == NULL) {
    return;
  }
  json_tokener *tok = json_tokener_new_ex(8);
  json_object *o = tok != NULL ? json_tokener_parse_ex(tok, body, (int)len) : NULL;
  json_object *e = NULL, *m = NULL;
  if (o != NULL && json_object_object_get_ex(o, "error", &e) &&
      json_object_object_get_ex(e, "message", &m) &&
      json_object_is_type(m, json_type_string)) {
    snprintf(out, cap, ": %s", json_object_get_string(m));
  }
  json_object_put(o);
  json_tokener_free(tok);
}

int actl_fetch_evidence(const actl_fetch_t *f, const uint8_t *nonce, size_t nlen,
                        uint32_t pcr_mask, size_t max, char **body, size_t *len,
                        char *why, size_t cap) {
  char url[2048];
  *body = NULL;
  *len = 0;
  if (build_url(f->url, nonce, nlen, pcr_mask, url, sizeof(url)) != 0) {
    snprintf(why, cap, "--url %s: an http:// or https:// URL of the agent, without a "
             "query", f->url);
    return -1;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    snprintf(why, cap, "libcurl did not initialise");
    return -1;
  }
  CURL *c = curl_easy_init();
  if (c == NULL) {
    curl_global_cleanup();
    snprintf(why, cap, "libcurl did not initialise");
    return -1;
  }
  char err[CURL_ERROR_SIZE] = "";
  sink_t s = {NULL, 0, max, 0};
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, f->timeout_s > 0 ? f->timeout_s : 30L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "attestctl");
  if (f->cacert != NULL) {
    curl_easy_setopt(c, CURLOPT_CAINFO, f->cacert);
  }
  if (f->cert != NULL) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, f->cert);
    curl_easy_setopt(c, CURLOPT_SSLKEY, f->key != NULL ? f->key : f->cert);
  }
  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  curl_global_cleanup();
  int ok = 0;
  if (s.over) {
    snprintf(why, cap, "%s: the answer is over %zu bytes", f->url, max);
  } else if (rc != CURLE_OK) {
    snprintf(why, cap, "cannot fetch evidence from %s: %s%s%s%s", f->url,
             curl_easy_strerror(rc), err[0] != '\0' ? " (" : "", err,
             err[0] != '\0' ? ")" : "");
  } else if (status != 200) {
    char msg[512];
    error_message(s.p, s.len, msg, sizeof(msg));
    snprintf(why, cap, "%s answered %ld%s", f->url, status, msg);
  } else if (s.p == NULL) {
    snprintf(why, cap, "%s answered 200 with no body", f->url);
  } else {
    ok = 1;
  }
  if (!ok) {
    free(s.p);
    return -1;
  }
  *body = s.p;
  *len = s.len;
  return 0;
}
