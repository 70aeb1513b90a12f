/**
 * In-place frame rewrites for transmission: {@link lb.dataplane.rewrite.RewriteAction} and the NAT
 * directions {@link lb.dataplane.rewrite.ForwardNat} and {@link lb.dataplane.rewrite.ReturnNat}.
 */
package lb.dataplane.rewrite;
