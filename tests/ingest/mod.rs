mod archives;
mod bad_input;
mod derived;
mod matcher;
mod real;
mod variants;
