/** The eBPF side could not be set up (missing capability, kernel feature). CLI exit code 3. */
export class AttachError extends Error {
  override readonly name = 'AttachError';
}
