mod command;
