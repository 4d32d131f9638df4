package io.tokensieve.eval.text;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The VQA contraction tables (benchmarks-vqa.md section 1.5). {@link #ASCII} is the table of lmms-eval and
 * the EvalAI answer processor. {@link #OFFICIAL} is the official VQA evaluator's: the same keys, but
 * written with the typographic apostrophe U+2019 in keys and values, except the values of aint, arent,
 * cant, couldve, couldnt, weve, wheres and whove and the keys couldn'tve and hadn'tve, which keep the
 * ASCII apostrophe. Quirks kept on purpose: somebody'd maps to somebodyd, and keys with a capital I
 * never match lower-cased words.
 */
public final class Contractions {
    private static final String TABLE =
            "aint=ain't arent=aren't cant=can't couldve=could've couldnt=couldn't couldn'tve=couldn't've "
            + "couldnt've=couldn't've didnt=didn't doesnt=doesn't dont=don't hadnt=hadn't hadnt've=hadn't've "
            + "hadn'tve=hadn't've hasnt=hasn't havent=haven't hed=he'd hed've=he'd've he'dve=he'd've hes=he's "
            + "howd=how'd howll=how'll hows=how's Id've=I'd've I'dve=I'd've Im=I'm Ive=I've isnt=isn't itd=it'd "
            + "itd've=it'd've it'dve=it'd've itll=it'll let's=let's maam=ma'am mightnt=mightn't "
            + "mightnt've=mightn't've mightn'tve=mightn't've mightve=might've mustnt=mustn't mustve=must've "
            + "neednt=needn't notve=not've oclock=o'clock oughtnt=oughtn't ow's'at='ow's'at 'ows'at='ow's'at "
            + "'ow'sat='ow's'at shant=shan't shed've=she'd've she'dve=she'd've she's=she's shouldve=should've "
            + "shouldnt=shouldn't shouldnt've=shouldn't've shouldn'tve=shouldn't've somebody'd=somebodyd "
            + "somebodyd've=somebody'd've somebody'dve=somebody'd've somebodyll=somebody'll "
            + "somebodys=somebody's someoned=someone'd someoned've=someone'd've someone'dve=someone'd've "
            + "someonell=someone'll someones=someone's somethingd=something'd somethingd've=something'd've "
            + "something'dve=something'd've somethingll=something'll thats=that's thered=there'd "
            + "thered've=there'd've there'dve=there'd've therere=there're theres=there's theyd=they'd "
            + "theyd've=they'd've they'dve=they'd've theyll=they'll theyre=they're theyve=they've twas='twas "
            + "wasnt=wasn't wed've=we'd've we'dve=we'd've weve=we've werent=weren't whatll=what'll "
            + "whatre=what're whats=what's whatve=what've whens=when's whered=where'd wheres=where's "
            + "whereve=where've whod=who'd whod've=who'd've who'dve=who'd've wholl=who'll whos=who's "
            + "whove=who've whyll=why'll whyre=why're whys=why's wont=won't wouldve=would've wouldnt=wouldn't "
            + "wouldnt've=wouldn't've wouldn'tve=wouldn't've yall=y'all yall'll=y'all'll y'allll=y'all'll "
            + "yall'd've=y'all'd've y'alld've=y'all'd've y'all'dve=y'all'd've youd=you'd youd've=you'd've "
            + "you'dve=you'd've youll=you'll youre=you're youve=you've";

    private static final Set<String> ASCII_VALUE_KEYS = Set.of("aint", "arent", "cant", "couldve", "couldnt", "weve",
            "wheres", "whove");
    private static final Set<String> ASCII_KEYS = Set.of("couldn'tve", "hadn'tve");

    public static final Map<String, String> ASCII = parse(false);
    public static final Map<String, String> OFFICIAL = parse(true);

    private Contractions() {}

    private static Map<String, String> parse(boolean official) {
        Map<String, String> m = new HashMap<>();
        for (String entry : TABLE.split(" ")) {
            int eq = entry.indexOf('=');
            String k = entry.substring(0, eq);
            String v = entry.substring(eq + 1);
            if (official) {
                String key = ASCII_KEYS.contains(k) ? k : k.replace('\'', '\u2019');
                m.put(key, ASCII_VALUE_KEYS.contains(k) ? v : v.replace('\'', '\u2019'));
            } else {
                m.put(k, v);
            }
        }
        return Collections.unmodifiableMap(m);
    }
}
