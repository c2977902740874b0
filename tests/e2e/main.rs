//! sparkfeed end to end: real processes, real data directories, real sockets on 127.0.0.1.

mod crash;
mod projector_crash;
