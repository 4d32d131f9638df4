package io.tokensieve.datasets;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DatasetsTest {
    @Test
    void everyFormatIsRegistered() {
        List<String> ids = Datasets.defaultRegistry().loaders().stream().map(DatasetLoader::id).toList();
        assertEquals(List.of("gqa", "icl", "mmbench", "mme", "pope", "reasonseg", "refcoco", "refcoco+", "refcocog",
                "scanqa", "scienceqa", "sqa3d", "textvqa", "vqav2"), ids);
    }

    @Test
    void unknownFormatListsTheKnownOnes() {
        DatasetException e = assertThrows(DatasetException.class,
                () -> Datasets.defaultRegistry().open("vqa3:/tmp", LoadOptions.strict()));
        assertTrue(e.getMessage().contains("unknown dataset format 'vqa3'"), e.getMessage());
        assertTrue(e.getMessage().contains("vqav2") && e.getMessage().contains("reasonseg"), e.getMessage());
    }

    @Test
    void specParsesFormatPathAndParameters() {
        DatasetSpec s = DatasetSpec.parse("textvqa:/data/text vqa?ocr=true&split=val");
        assertEquals("textvqa", s.format());
        assertEquals(Path.of("/data/text vqa"), s.root());
        assertEquals(Map.of("ocr", "true", "split", "val"), s.params());
        assertEquals("textvqa:/data/text vqa?ocr=true&split=val", s.toString());
        assertThrows(DatasetException.class, () -> DatasetSpec.parse("vqav2"));
        assertThrows(DatasetException.class, () -> DatasetSpec.parse("vqav2:/x?ocr"));
    }

    @Test
    void unknownParameterListsTheKnownOnes() {
        String spec = "textvqa:" + Fixtures.path("textvqa") + "?ocrr=true";
        DatasetException e = assertThrows(DatasetException.class, () -> Fixtures.load(spec));
        assertTrue(e.getMessage().contains("unknown parameter 'ocrr' (known: split, ocr)"), e.getMessage());
    }

    @Test
    void badParameterValueIsNamed() {
        String spec = "scanqa:" + Fixtures.path("scan3d") + "?views=0";
        DatasetException e = assertThrows(DatasetException.class, () -> Fixtures.load(spec));
        assertTrue(e.getMessage().contains("views must be a positive integer"), e.getMessage());
    }

    @Test
    void missingRootIsNamed() {
        DatasetException e = assertThrows(DatasetException.class, () -> Fixtures.load("gqa:/no/such/folder"));
        assertTrue(e.getMessage().contains("/no/such/folder: not found"), e.getMessage());
    }
}
