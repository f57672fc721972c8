/*
 * Firmware push (Redfish MultipartHttpPushUri) and the tasks that report
 * on it (TaskService).
 *
 * The multipart body is parsed as it arrives (libmicrohttpd's post
 * processor); the UpdateFile part goes straight into rotd's update session
 * (UPDATE_BEGIN once its image header is read, then UPDATE_CHUNK per
 * chunk), so the agent never holds more than one chunk of it and nothing
 * reaches the flash except through that session. When the body is
 * complete, a task finishes the session (UPDATE_FINISH: rotd verifies the
 * image in place) and, when asked, activates it for a trial boot. One
 * update at a time: a second gets 409 while the first runs.
 */
#ifndef HOST_AGENT_UPDATE_H
#define HOST_AGENT_UPDATE_H

#include <stdint.h>

#include "agent.h"

/** Headers seen: check the size, take the update slot, start parsing. */
void ha_upload_begin(ha_agent_t *a, ha_req_t *r, uint64_t content_length);
/** Body bytes. */
void ha_upload_feed(ha_agent_t *a, ha_req_t *r, const char *data, size_t n);
/** Body complete: check it, start the task, answer 202. */
void ha_upload_end(ha_agent_t *a, ha_req_t *r);
/** Request gone: abort what it left open (session, slot). */
void ha_upload_release(ha_agent_t *a, ha_req_t *r, int completed);

/** Task store. */
int ha_tasks_init(ha_agent_t *a);
/** 1 while a task's worker still runs (shutdown waits for it). */
int ha_tasks_running(ha_agent_t *a);

/* Handlers (routes.c lists them). */
void ha_get_task_service(ha_agent_t *a, ha_req_t *r);
void ha_get_tasks(ha_agent_t *a, ha_req_t *r);
void ha_get_task(ha_agent_t *a, ha_req_t *r);
void ha_get_task_monitor(ha_agent_t *a, ha_req_t *r);

#endif /* HOST_AGENT_UPDATE_H */
