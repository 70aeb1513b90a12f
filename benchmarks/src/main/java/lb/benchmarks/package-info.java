/** JMH benchmarks for the lookup, scheduling and rewrite path. */
package lb.benchmarks;
