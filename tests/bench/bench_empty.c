/*
 * An empty program that needs exactly the shared libraries bootchain needs
 * (tests/objects.mk links it against bootchain's DT_NEEDED list: tpm2-tss,
 * libfdt, both crypto backends, json-c), all loaded at start: the
 * process-start share of the boot figure's bound in make bench. Not a test.
 */
int main(void) {
  return 0;
}
