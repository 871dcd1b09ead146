package engine

// MissHistory is how many matches of one missing-event step a sequence
// remembers per join key (older ones are forgotten and counted).
const MissHistory = missHistory
