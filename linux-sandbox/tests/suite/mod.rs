mod attacks;
mod canary;
mod harness;
mod library;
mod positive;
mod processes;
mod procfs;
mod shared_tmp;
