mod archives;
mod bad_input;
mod derived;
mod matcher;
mod pastes;
mod real;
mod variants;
