mod common;
mod golden;
mod property;
mod safety;
