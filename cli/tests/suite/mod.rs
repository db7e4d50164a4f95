mod common;
mod config;
mod login;
mod sandbox;
mod security;
