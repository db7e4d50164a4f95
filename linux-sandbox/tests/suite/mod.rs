mod attacks;
mod canary;
mod harness;
mod library;
mod positive;
mod procfs;
mod shared_tmp;
