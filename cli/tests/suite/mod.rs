mod apply_patch;
mod common;
mod config;
mod login;
mod sandbox;
mod security;
