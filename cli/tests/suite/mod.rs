mod common;
mod config;
mod login;
mod sandbox;
mod secret_service;
mod security;
