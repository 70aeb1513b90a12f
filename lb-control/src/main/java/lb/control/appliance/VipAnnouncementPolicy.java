package lb.control.appliance;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import lb.control.Log;
import lb.control.announce.VipAnnouncer;
import lb.control.config.BgpConfig;
import lb.control.config.IpAddresses;
import lb.control.socket.RuntimeApi;

/**
 * What lb announces to its router, decided here and carried out by a {@link VipAnnouncer} (a
 * BIRD that lb runs as its child). A VIP is announced while lb runs, is not drained
 * ({@code lbctl set announce off}) and at least one service on it has a backend that can take
 * new flows (healthy by ARP probe, passing its TCP check if any, ready, weight above 0); it is
 * withdrawn when that stops being true and when lb stops. If lb dies, its BIRD dies with it and the router drops lb's routes
 * when the session closes.
 * <p>
 * The announcer's own thread asks {@link #wanted} every {@link VipAnnouncer#STEP_NANOS} and talks
 * to BIRD, so a slow or broken BIRD never holds up probing, the control socket or forwarding.
 */
final class VipAnnouncementPolicy implements AutoCloseable
{
    private final ApplianceRuntime runtime;
    private final VipAnnouncer announcer;
    private volatile boolean enabled = true;

    VipAnnouncementPolicy(final BgpConfig bgp, final ApplianceRuntime runtime)
    {
        this.runtime = runtime;
        this.announcer = new VipAnnouncer(bgp, this::wanted, Log::info);
    }

    /** Every IPv4 VIP, and whether it should be announced now (BGP carries IPv4 VIPs only, for now). Any thread. */
    Map<Integer, Boolean> wanted()
    {
        final Map<Integer, Boolean> usable = runtime.vipsWithUsableBackends();
        final Map<Integer, Boolean> wanted = new LinkedHashMap<>();
        for (final Integer vip : runtime.vips())
        {
            if (!IpAddresses.isIpv6(vip))
            {
                wanted.put(vip, enabled && usable.getOrDefault(vip, false));
            }
        }
        return wanted;
    }

    /** The BIRD config lb runs with, as lb has its VIPs now. */
    String birdConfig()
    {
        return announcer.configText();
    }

    void start()
    {
        announcer.start();
    }

    /** Drains (off) or puts this instance back (on), from the control socket's thread. */
    void enabled(final boolean on)
    {
        if (enabled != on)
        {
            Log.info("announce: " + (on ? "on (VIPs with a usable backend are announced)" : "off (every VIP withdrawn)"));
        }
        enabled = on;
        announcer.wake();
    }

    RuntimeApi.Announcements view()
    {
        final List<RuntimeApi.VipAnnouncement> vips = new ArrayList<>();
        for (final Map.Entry<Integer, Boolean> vip : wanted().entrySet())
        {
            vips.add(new RuntimeApi.VipAnnouncement(vip.getKey(), vip.getValue(), announcer.announced(vip.getKey())));
        }
        return new RuntimeApi.Announcements(true, enabled, announcer.sessionEstablished(), announcer.errors(),
            announcer.birdRestarts(), vips);
    }

    /** Withdraws every VIP (waiting briefly for BIRD to carry it out) and stops BIRD. */
    @Override
    public void close()
    {
        announcer.close();
    }
}
