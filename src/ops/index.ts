// Registers every op (import for side effects), in dependency-free order.
import './elementwise.js';
import './reduce.js';
import './movement.js';
import './indexing.js';
import './matmul.js';
import './nn.js';
import './rnn.js';
