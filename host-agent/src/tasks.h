/*
 * The task store behind Redfish's TaskService: a fixed ring of the last
 * TASKS_MAX tasks (firmware pushes), their state, and their Redfish
 * documents. Private to the agent (update.c runs the tasks).
 */
#ifndef HOST_AGENT_TASKS_H
#define HOST_AGENT_TASKS_H

#include <pthread.h>
#include <time.h>

#include "agent.h"
#include "rot/mailbox.h"

#define TASKS_MAX 32u

typedef enum task_state { TASK_RUNNING, TASK_COMPLETED, TASK_EXCEPTION } task_state_t;

typedef struct ha_task {
  unsigned id; /* 0: free slot */
  task_state_t state;
  unsigned percent;
  char message[320];
  time_t start, end;
  uint32_t image_type;
  uint32_t total_len;
  uint32_t region, slot;
  int activate;
  int have_info;
  rot_mbox_image_info_t info;
} ha_task_t;

struct ha_tasks {
  pthread_mutex_t lock;
  ha_task_t t[TASKS_MAX];
  unsigned next_id;
  unsigned workers;
};

/** A new running task (the oldest finished one makes room); NULL when
 * all TASKS_MAX run. Call with ts->lock held. */
ha_task_t *ha_task_new(ha_tasks_t *ts);

/** Move task id on: state, percent, image info (may be NULL), message. */
void ha_task_set(ha_agent_t *a, unsigned id, task_state_t st, unsigned pct,
                 const rot_mbox_image_info_t *info, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/** The task as a Redfish Task resource. Call with the lock held. */
json_object *ha_task_json(const ha_task_t *t);

#endif /* HOST_AGENT_TASKS_H */
