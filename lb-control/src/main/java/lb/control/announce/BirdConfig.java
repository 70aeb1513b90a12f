package lb.control.announce;

import java.util.Collection;
import lb.control.config.BgpConfig;
import lb.control.config.Ipv4;

/**
 * The BIRD 2 configuration lb runs its BIRD with: one eBGP session to the router and one static
 * protocol per VIP holding a /32 blackhole route. A VIP is announced while its static protocol is
 * enabled and withdrawn while it is disabled ({@code birdc enable|disable}: about 20 ms, and the
 * session stays up). No kernel protocol: the blackhole routes never reach lb's own kernel.
 */
public final class BirdConfig
{
    /** Protocol name of the session to the router. */
    public static final String SESSION = "uplink";
    /** BFD: a dead peer is noticed after three missed 100 ms packets. */
    static final int BFD_INTERVAL_MS = 100;
    static final int BFD_MULTIPLIER = 3;

    private BirdConfig()
    {
    }

    /** Protocol name of the static protocol that carries one VIP: {@code vip_198_18_0_100}. */
    public static String staticName(final int vip)
    {
        return "vip_" + Ipv4.format(vip).replace('.', '_');
    }

    /**
     * @param bgp     the session.
     * @param vips    every VIP lb knows. Each static protocol is written disabled: lb enables
     *                what it announces at run time, so a fresh BIRD announces nothing lb has not
     *                decided on, and a {@code configure} never restarts (and flaps) an announced VIP,
     *                because its lines never change.
     * @param logFile where BIRD logs.
     * @return the configuration text.
     */
    public static String render(final BgpConfig bgp, final Collection<Integer> vips, final String logFile)
    {
        final StringBuilder out = new StringBuilder(1024);
        out.append("# Written by lb: its BIRD announces lb's VIPs. Changes here are overwritten.\n");
        out.append("log \"").append(logFile).append("\" { info, remote, warning, error, auth, fatal, bug };\n");
        out.append("router id ").append(Ipv4.format(bgp.localIp())).append(";\n");
        out.append("protocol device { scan time 10; }\n");
        if (bgp.bfd())
        {
            out.append("protocol bfd { interface \"*\" { interval ").append(BFD_INTERVAL_MS).append(" ms; multiplier ")
                .append(BFD_MULTIPLIER).append("; }; }\n");
        }
        for (final int vip : vips.stream().sorted(Integer::compareUnsigned).toList())
        {
            out.append("protocol static ").append(staticName(vip)).append(" {\n");
            out.append("  disabled;\n");
            out.append("  ipv4;\n");
            out.append("  route ").append(Ipv4.format(vip)).append("/32 blackhole;\n");
            out.append("}\n");
        }
        final long hold = Math.max(3, bgp.holdTime().toSeconds());
        out.append("protocol bgp ").append(SESSION).append(" {\n");
        out.append("  local ").append(Ipv4.format(bgp.localIp())).append(" as ").append(bgp.localAs()).append(";\n");
        out.append("  neighbor ").append(Ipv4.format(bgp.neighborIp())).append(" as ").append(bgp.neighborAs()).append(";\n");
        out.append("  hold time ").append(hold).append(";\n");
        out.append("  keepalive time ").append(Math.max(1, hold / 3)).append(";\n");
        // BIRD's defaults keep a failed session down for 60 to 300 s: come back within seconds.
        out.append("  error wait time 1, 2;\n");
        out.append("  connect retry time 1;\n");
        // BIRD waits 5 s before its first connect by default: announce as soon as lb is up.
        out.append("  connect delay time 0;\n");
        if (bgp.bfd())
        {
            out.append("  bfd on;\n");
        }
        out.append("  ipv4 {\n");
        out.append("    import none;\n");
        // Only the VIP statics, pointing at lb's data-plane address, not at the session's.
        out.append("    export filter {\n");
        out.append("      if source != RTS_STATIC then reject;\n");
        out.append("      bgp_next_hop = ").append(Ipv4.format(bgp.nextHop())).append(";\n");
        out.append("      accept;\n");
        out.append("    };\n");
        out.append("  };\n");
        out.append("}\n");
        return out.toString();
    }
}
