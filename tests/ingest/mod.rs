mod archives;
mod bad_input;
mod derived;
mod follow;
mod matcher;
mod real;
mod variants;
