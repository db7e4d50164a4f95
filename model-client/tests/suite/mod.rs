mod auth;
mod harness;
mod limits;
mod oss;
mod retries;
mod shape;
