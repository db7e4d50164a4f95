mod attacks;
mod canary;
mod harness;
mod library;
mod positive;
