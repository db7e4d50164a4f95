mod attacks;
mod canary;
mod harness;
mod library;
mod positive;
mod shared_tmp;
