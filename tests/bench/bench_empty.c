/*
 * An empty program linked with the libraries bootchain links (tpm2-tss,
 * libfdt, the crypto backends), all loaded at start: the process-start
 * share of the boot figure's bound in make bench. Not a test.
 */
int main(void) {
  return 0;
}
