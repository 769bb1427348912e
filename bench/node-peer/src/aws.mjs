// What every AWS client of the peer is made with: the same budgets as the Rust functions
// (shared/sdk/src/lib.rs): 3 attempts, 1 s to connect, 1.5 s per attempt. AWS_ENDPOINT_URL
// (moto, locally) is read by the SDK itself.

/** The options of one client; a fresh object each time, so no two clients share one. */
export const clientOptions = () => ({
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 1000, requestTimeout: 1500 },
});
