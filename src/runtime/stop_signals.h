// Stop signals: SIGINT and SIGTERM ask a running sluice to finish its open batches and exit. The handler
// only sets a flag (all that is async-signal-safe); the runtime polls it.
// Thread-safety: StopRequested from any thread.
#pragma once

namespace sluice {

// Installs the handlers; idempotent.
void InstallStopSignals();
// Whether SIGINT or SIGTERM arrived since InstallStopSignals.
bool StopRequested();

}  // namespace sluice
