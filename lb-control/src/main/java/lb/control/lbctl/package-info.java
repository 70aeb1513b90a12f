/**
 * {@code lbctl}, the command-line client of the control socket ({@code bin/lbctl}): one runtime
 * command per run with exit codes for scripts (0 done, 1 lb answered an error, 2 usage error,
 * 3 cannot connect), and {@code lbctl watch} for per-backend rates.
 */
package lb.control.lbctl;
