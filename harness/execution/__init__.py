"""Running cases: segments in isolated worker processes, runs, the coordinator.

pool.py         WorkerPool: a command's warm fork servers and the worker's path folder
forkserver.py   one warm fork server, asked for a forked child per segment
transport.py    a segment's process: started, fed, read line by line, ended with its group
events.py       one handler per event of a segment (each checked by messages.py)
attribution.py  which step a segment's end lands on, and its result (pure)
segment.py      run_segment: the three above composed
run.py          run_case: a case's segments in a chain, one work dir
probe.py        which runtime an env holds, and whether it is usable
coordinator.py  a matrix: every case on every runtime, reruns of what changed
shards.py       upgrade pairs whose runtimes ran in different shards
"""
