"""Result reuse: a run whose inputs did not change is not run again.

A run's outcome is a function of its inputs (`inputs.RunInputs`): the scenario's text, the bytes
of the modules it is handed, each runtime env's identity, the harness, the host and the options
that change outcomes. Runs are kept in a cache keyed by a digest of those inputs (`store`); a
later run reuses a hit, runs only the misses, and marks each reused run as such (`policy`). The
runtimes' probes are kept the same way, so a fully reused matrix starts no worker at all.

    inputs    pure: the inputs of a run, their key (and `RunContext`, what every run shares)
    identity  edge: digests of files, a Python env, a Go worker, the harness's own sources
    store     edge: a directory of JSON entries by key; a damaged entry is a miss
    policy    pure: which runs may be kept, and a kept run as a reused record
    session   the run command's side: partition the plan, keep what ran, probe through the cache
"""
