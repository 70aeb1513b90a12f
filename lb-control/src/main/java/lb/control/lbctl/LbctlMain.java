package lb.control.lbctl;

import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.Charset;

/** Entry point of the {@code lbctl} command: {@code bin/lbctl --help}. */
public final class LbctlMain
{
    private LbctlMain()
    {
    }

    /**
     * @param args the command-line arguments; see {@code lbctl --help}.
     */
    public static void main(final String[] args)
    {
        final Charset charset = Charset.defaultCharset();
        final PrintWriter out = new PrintWriter(new OutputStreamWriter(System.out, charset), true);
        final PrintWriter err = new PrintWriter(new OutputStreamWriter(System.err, charset), true);
        System.exit(LbctlCommand.run(System.console() != null, out, err, args));
    }
}
