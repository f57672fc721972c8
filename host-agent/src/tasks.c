/* The TaskService: task store and documents (see tasks.h, update.h). */
#define _GNU_SOURCE
#include "tasks.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rot_client/names.h"
#include "update.h"

/* ---- tasks ---------------------------------------------------------------------- */

int ha_tasks_init(ha_agent_t *a) {
  a->tasks = calloc(1, sizeof(*a->tasks));
  if (a->tasks == NULL || pthread_mutex_init(&a->tasks->lock, NULL) != 0) {
    return -1;
  }
  a->tasks->next_id = 1;
  return 0;
}

int ha_tasks_running(ha_agent_t *a) {
  pthread_mutex_lock(&a->tasks->lock);
  int n = a->tasks->workers != 0;
  pthread_mutex_unlock(&a->tasks->lock);
  return n;
}

/* Under the lock. */
ha_task_t *ha_task_new(ha_tasks_t *ts) {
  ha_task_t *slot = NULL;
  for (size_t i = 0; i < TASKS_MAX; i++) {
    ha_task_t *t = &ts->t[i];
    if (t->id == 0) {
      slot = t;
      break;
    }
    /* Else the oldest finished one goes. */
    if (t->state != TASK_RUNNING && (slot == NULL || t->id < slot->id)) {
      slot = t;
    }
  }
  if (slot == NULL) {
    return NULL;
  }
  memset(slot, 0, sizeof(*slot));
  slot->id = ts->next_id++;
  slot->state = TASK_RUNNING;
  slot->start = time(NULL);
  return slot;
}

static ha_task_t *task_find(ha_tasks_t *ts, const char *id) {
  char *end = NULL;
  unsigned long v = strtoul(id, &end, 10);
  if (end == id || *end != '\0' || v == 0 || id[0] == '0') {
    return NULL;
  }
  for (size_t i = 0; i < TASKS_MAX; i++) {
    if (ts->t[i].id == v) {
      return &ts->t[i];
    }
  }
  return NULL;
}


void ha_task_set(ha_agent_t *a, unsigned id, task_state_t st, unsigned pct,
                 const rot_mbox_image_info_t *info, const char *fmt, ...) {
  pthread_mutex_lock(&a->tasks->lock);
  for (size_t i = 0; i < TASKS_MAX; i++) {
    ha_task_t *t = &a->tasks->t[i];
    if (t->id != id) {
      continue;
    }
    t->state = st;
    t->percent = pct;
    if (info != NULL) {
      t->info = *info;
      t->have_info = 1;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->message, sizeof(t->message), fmt, ap);
    va_end(ap);
    if (st != TASK_RUNNING) {
      t->end = time(NULL);
    }
  }
  pthread_mutex_unlock(&a->tasks->lock);
}

/* ---- Redfish documents ------------------------------------------------------ */

static void iso_time(time_t t, char *out, size_t cap) {
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *state_name(task_state_t s) {
  return s == TASK_RUNNING ? "Running" : s == TASK_COMPLETED ? "Completed" : "Exception";
}

json_object *ha_task_json(const ha_task_t *t) {
  char path[80];
  char buf[40];
  json_object *o = json_object_new_object();
  snprintf(path, sizeof(path), "/redfish/v1/TaskService/Tasks/%u", t->id);
  json_object_object_add(o, "@odata.id", json_object_new_string(path));
  json_object_object_add(o, "@odata.type", json_object_new_string("#Task.v1_7_1.Task"));
  snprintf(buf, sizeof(buf), "%u", t->id);
  json_object_object_add(o, "Id", json_object_new_string(buf));
  json_object_object_add(o, "Name", json_object_new_string("Firmware update"));
  json_object_object_add(o, "TaskState", json_object_new_string(state_name(t->state)));
  json_object_object_add(o, "TaskStatus", json_object_new_string(
      t->state == TASK_EXCEPTION ? "Critical" : "OK"));
  json_object_object_add(o, "PercentComplete", json_object_new_int((int)t->percent));
  iso_time(t->start, buf, sizeof(buf));
  json_object_object_add(o, "StartTime", json_object_new_string(buf));
  if (t->state != TASK_RUNNING) {
    iso_time(t->end, buf, sizeof(buf));
    json_object_object_add(o, "EndTime", json_object_new_string(buf));
  }
  char mon[96];
  snprintf(mon, sizeof(mon), "%s/Monitor", path);
  json_object_object_add(o, "TaskMonitor", json_object_new_string(mon));
  json_object *msgs = json_object_new_array();
  json_object *m = json_object_new_object();
  json_object_object_add(m, "MessageId", json_object_new_string(
      t->state == TASK_EXCEPTION   ? "TaskEvent.1.0.TaskAborted"
      : t->state == TASK_COMPLETED ? "TaskEvent.1.0.TaskCompletedOK"
                                   : "TaskEvent.1.0.TaskStarted"));
  json_object_object_add(m, "Message", json_object_new_string(t->message));
  json_object_object_add(m, "Severity", json_object_new_string(
      t->state == TASK_EXCEPTION ? "Critical" : "OK"));
  json_object_array_add(msgs, m);
  json_object_object_add(o, "Messages", msgs);
  json_object *oem = json_object_new_object();
  json_object *rs = json_object_new_object();
  const char *tn = rot_image_type_name(t->image_type);
  json_object_object_add(rs, "ImageType", json_object_new_string(tn != NULL ? tn : "unknown"));
  json_object_object_add(rs, "ImageBytes", json_object_new_int64(t->total_len));
  json_object_object_add(rs, "Region", json_object_new_int64(t->region));
  json_object_object_add(rs, "Slot", json_object_new_string(
      t->slot == 0 ? "A" : t->slot == 1 ? "B" : "recovery"));
  json_object_object_add(rs, "Activate", json_object_new_boolean(t->activate));
  if (t->have_info) {
    snprintf(buf, sizeof(buf), "%u.%u.%u", t->info.ver_major, t->info.ver_minor,
             t->info.ver_patch);
    json_object_object_add(rs, "Version", json_object_new_string(buf));
    json_object_object_add(rs, "SVN", json_object_new_int64(t->info.svn));
    json_object_object_add(rs, "SignerKeyIndex", json_object_new_int64(t->info.key_index));
  }
  json_object_object_add(oem, "RotStack", rs);
  json_object_object_add(o, "Oem", oem);
  return o;
}

void ha_get_task_service(ha_agent_t *a, ha_req_t *r) {
  (void)a;
  json_object *o = json_object_new_object();
  json_object_object_add(o, "@odata.id", json_object_new_string("/redfish/v1/TaskService"));
  json_object_object_add(o, "@odata.type",
                         json_object_new_string("#TaskService.v1_2_0.TaskService"));
  json_object_object_add(o, "Id", json_object_new_string("TaskService"));
  json_object_object_add(o, "Name", json_object_new_string("Task Service"));
  json_object_object_add(o, "ServiceEnabled", json_object_new_boolean(1));
  json_object_object_add(o, "CompletedTaskOverWritePolicy",
                         json_object_new_string("Oldest"));
  json_object *st = json_object_new_object();
  json_object_object_add(st, "State", json_object_new_string("Enabled"));
  json_object_object_add(st, "Health", json_object_new_string("OK"));
  json_object_object_add(o, "Status", st);
  json_object *tasks = json_object_new_object();
  json_object_object_add(tasks, "@odata.id",
                         json_object_new_string("/redfish/v1/TaskService/Tasks"));
  json_object_object_add(o, "Tasks", tasks);
  ha_reply_json(r, 200, o);
}

void ha_get_tasks(ha_agent_t *a, ha_req_t *r) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "@odata.id",
                         json_object_new_string("/redfish/v1/TaskService/Tasks"));
  json_object_object_add(o, "@odata.type",
                         json_object_new_string("#TaskCollection.TaskCollection"));
  json_object_object_add(o, "Name", json_object_new_string("Tasks"));
  json_object *members = json_object_new_array();
  pthread_mutex_lock(&a->tasks->lock);
  unsigned ids[TASKS_MAX];
  size_t n = 0;
  for (size_t i = 0; i < TASKS_MAX; i++) {
    if (a->tasks->t[i].id != 0) {
      ids[n++] = a->tasks->t[i].id;
    }
  }
  pthread_mutex_unlock(&a->tasks->lock);
  /* Oldest first. */
  for (size_t i = 1; i < n; i++) {
    for (size_t j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
      unsigned x = ids[j];
      ids[j] = ids[j - 1];
      ids[j - 1] = x;
    }
  }
  for (size_t i = 0; i < n; i++) {
    char path[80];
    snprintf(path, sizeof(path), "/redfish/v1/TaskService/Tasks/%u", ids[i]);
    json_object *m = json_object_new_object();
    json_object_object_add(m, "@odata.id", json_object_new_string(path));
    json_object_array_add(members, m);
  }
  json_object_object_add(o, "Members@odata.count", json_object_new_int((int)n));
  json_object_object_add(o, "Members", members);
  ha_reply_json(r, 200, o);
}

static void task_reply(ha_agent_t *a, ha_req_t *r, int monitor) {
  pthread_mutex_lock(&a->tasks->lock);
  ha_task_t *t = task_find(a->tasks, r->id);
  json_object *o = t != NULL ? ha_task_json(t) : NULL;
  int running = t != NULL && t->state == TASK_RUNNING;
  pthread_mutex_unlock(&a->tasks->lock);
  if (t == NULL) {
    ha_reply_error(r, 404, "ResourceNotFound", NULL, "no task %s", r->id);
    return;
  }
  if (monitor && running) {
    char loc[96];
    snprintf(loc, sizeof(loc), "/redfish/v1/TaskService/Tasks/%s/Monitor", r->id);
    ha_reply_header(r, "Location", loc);
    ha_reply_header(r, "Retry-After", "1");
    ha_reply_json(r, 202, o);
    return;
  }
  ha_reply_json(r, 200, o);
}

void ha_get_task(ha_agent_t *a, ha_req_t *r) { task_reply(a, r, 0); }
void ha_get_task_monitor(ha_agent_t *a, ha_req_t *r) { task_reply(a, r, 1); }
