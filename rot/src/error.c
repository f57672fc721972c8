/* Names and reasons of the error list (generated from ROT_ERROR_LIST). */
#include "rot/error.h"

const char *rot_error_str(rot_error_t err) {
  switch (err) {
    case ROT_OK:
      return "ok";
#define ROT_ERROR_STR_(name, mod, num, text) \
  case name:                                 \
    return text;
      ROT_ERROR_LIST(ROT_ERROR_STR_)
#undef ROT_ERROR_STR_
  }
  return "unknown error";
}

const char *rot_error_name(rot_error_t err) {
  switch (err) {
    case ROT_OK:
      return "ROT_OK";
#define ROT_ERROR_NAME_(name, mod, num, text) \
  case name:                                  \
    return #name;
      ROT_ERROR_LIST(ROT_ERROR_NAME_)
#undef ROT_ERROR_NAME_
  }
  return "ROT_ERROR_UNKNOWN";
}
