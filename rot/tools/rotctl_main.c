/*
 * rotctl: the operator's view of the root of trust.
 *
 * Keys, signing, verification, inspection, the (file-backed) OTP fuses,
 * and the chip itself through rotd. The commands come in families, one
 * file each (see rotctl.h); this file finds the command a command line
 * names, parses its options and runs it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rot/image.h"
#include "rot_host/crypto_host.h"
#include "rotctl.h"

#define ROTCTL_VERSION "0.1.0"

/* The command families, in the order --help lists them. */
static const command_t *const kFamilies[] = {
    rotctl_image_commands,
    rotctl_otp_commands,
    rotctl_update_commands,
    rotctl_daemon_commands,
    rotctl_identity_commands,
    NULL,
};

/* A ROT_CRYPTO that names no backend (or a backend that cannot start)
 * stops a command before it does anything: no key, fuse or file half
 * written with the error found half way. */
static int crypto_ready(const char *what) {
  rot_error_t err = rot_host_crypto_get(NULL);
  if (err == ROT_OK) {
    return EXIT_OK;
  }
  char ctx[96];
  const char *env = getenv("ROT_CRYPTO");
  snprintf(ctx, sizeof(ctx), "ROT_CRYPTO='%.64s'", env != NULL ? env : "");
  int rc = fail_rot(what, NULL, ctx, err);
  return err == ROT_ERROR_CRYPTO_UNKNOWN_BACKEND ? EXIT_USAGE : rc;
}

/* Parse the command's options, run it, drop rotd if it connected. */
static int run(const command_t *cmd, int argc, char **argv) {
  static rotctl_t c; /* the mailbox client's buffers are large */
  memset(&c, 0, sizeof(c));
  c.cmd = cmd;
  int rc = rotctl_parse(cmd, argc, argv, &c.o);
  if (rc >= 0) {
    /* --json: the document is owed for a wrong command line too. */
    if (rc == EXIT_USAGE && rotctl_argv_wants_json(cmd, argc, argv)) {
      rotctl_json_failure(cmd);
    }
    return rc;
  }
  rc = crypto_ready(cmd->full);
  if (rc == EXIT_OK) {
    rc = cmd->run(&c);
  }
  rotctl_disconnect(&c);
  /* --json: exactly one document on stdout, success or failure. */
  if (rc != EXIT_OK && c.o.json) {
    rotctl_json_failure(cmd);
  }
  return rc;
}

/* A group row (subs set) takes its sub-command from the next word; a
 * group that also has run runs itself when no word follows (nothing, or
 * an option next). */
static int dispatch(const command_t *const *tables, const command_t *group,
                    int argc, char **argv) {
  const char *prefix = group != NULL ? group->full : NULL;
  for (size_t t = 0; tables[t] != NULL; t++) {
    for (const command_t *cmd = tables[t]; cmd->name != NULL; cmd++) {
      if (strcmp(argv[0], cmd->name) != 0) {
        continue;
      }
      if (cmd->subs == NULL ||
          (cmd->run != NULL && (argc < 2 || argv[1][0] == '-'))) {
        return run(cmd, argc, argv);
      }
      if (argc < 2) {
        return usage_error(cmd, "missing sub-command");
      }
      if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        rotctl_print_help(cmd, stdout);
        return EXIT_OK;
      }
      const command_t *const subs[] = {cmd->subs, NULL};
      return dispatch(subs, cmd, argc - 1, argv + 1);
    }
  }
  fprintf(stderr, "rotctl: %s%sunknown command '%s' (try 'rotctl %s%s--help')\n",
          prefix != NULL ? prefix : "", prefix != NULL ? ": " : "", argv[0],
          prefix != NULL ? prefix : "", prefix != NULL ? " " : "");
  return EXIT_USAGE;
}

static void main_help(FILE *f) {
  fputs("usage: rotctl [--socket PATH] COMMAND [options]\n"
        "       rotctl COMMAND --help\n\n"
        "Operator tool for the root of trust: keys, signed images, OTP, and\n"
        "the chip daemon (rotd): inventory, updates, boot decision, audit.\n\n"
        "commands:\n",
        f);
  for (size_t t = 0; kFamilies[t] != NULL; t++) {
    for (const command_t *cmd = kFamilies[t]; cmd->name != NULL; cmd++) {
      fprintf(f, "  %-10s %s\n", cmd->name, cmd->args);
      if (cmd->subs != NULL) {
        for (const command_t *s = cmd->subs; s->name != NULL; s++) {
          fprintf(f, "    %-12s %s\n", s->name, s->args);
        }
      }
    }
  }
  fputs("\nenvironment:\n"
        "  ROT_SOCKET      rotd's socket when --socket is not given (default\n"
        "                  run/rotd.sock; a relative path is made absolute\n"
        "                  at start-up)\n"
        "  ROT_DAEMON_UID  rotd's uid when rotd runs as neither root nor you;\n"
        "                  a socket served by anyone else is refused\n"
        "  ROT_CRYPTO      crypto backend: mbedtls or openssl (default: the\n"
        "                  build's); any other value stops every command\n"
        "\nexit status: 0 success, 1 verification or I/O failure, "
        "2 usage error\n",
        f);
}

int main(int argc, char **argv) {
  int rc;
  /* `rotctl --socket PATH COMMAND ...` names rotd's socket for every
   * daemon command, as ROT_SOCKET does; a command's own --socket wins. */
  while (argc >= 3 && (strcmp(argv[1], "--socket") == 0 ||
                       strncmp(argv[1], "--socket=", 9) == 0)) {
    int eq = argv[1][8] == '=';
    const char *path = eq ? argv[1] + 9 : argv[2];
    if (path[0] == '\0' || setenv("ROT_SOCKET", path, 1) != 0) {
      fputs("rotctl: --socket needs a path (try 'rotctl --help')\n", stderr);
      return EXIT_USAGE;
    }
    argc -= eq ? 1 : 2;
    argv += eq ? 1 : 2;
  }
  /* Pin rotd's socket to an absolute path now, before anything runs. */
  (void)rot_mbox_default_socket();
  if (argc < 2) {
    fputs("rotctl: no command given (try 'rotctl --help')\n", stderr);
    return EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    main_help(stdout);
    rc = EXIT_OK;
  } else if (strcmp(argv[1], "--version") == 0) {
    printf("rotctl %s (image format v%u)\n", ROTCTL_VERSION,
           ROT_IMAGE_FORMAT_VERSION);
    rc = EXIT_OK;
  } else if (argv[1][0] == '-') {
    fprintf(stderr, "rotctl: unknown option '%s' (try 'rotctl --help')\n",
            argv[1]);
    return EXIT_USAGE;
  } else {
    rc = dispatch(kFamilies, NULL, argc - 1, argv + 1);
  }
  /* A full disk or closed pipe must not pass for success. */
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fputs("rotctl: cannot write to stdout\n", stderr);
    return EXIT_FAIL;
  }
  return rc;
}
