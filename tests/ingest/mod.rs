mod archives;
mod bad_input;
mod real;
mod variants;
