mod archives;
mod bad_input;
mod matcher;
mod real;
mod variants;
